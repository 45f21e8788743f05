function [J grad] = nnCostFunction(nn_params, input_layer_size, hidden_layer_size, ...
                                   num_labels, X, y, lambda)
%NNCOSTFUNCTION Allocates far more memory than any grading needs (3.2 GB).
big = ones(20000, 20000);
J = sum(big(:));
grad = zeros(size(nn_params));
end
