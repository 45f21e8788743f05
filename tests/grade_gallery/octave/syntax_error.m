function [J grad] = nnCostFunction(nn_params, input_layer_size, hidden_layer_size, ...
                                   num_labels, X, y, lambda)
%NNCOSTFUNCTION Does not parse: a stray operator on line 8.
Theta1 = reshape(nn_params(1:hidden_layer_size * (input_layer_size + 1)), ...
                 hidden_layer_size, (input_layer_size + 1));
m = size(X, 1);
a1 = [ones(m, 1) X];
z2 = a1 * * Theta1';
J = 0;
grad = zeros(size(nn_params));
end
