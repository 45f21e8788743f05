function g = sigmoid(z)
%SIGMOID Compute sigmoid function (the course's own helper, shipped with ex4)
g = 1.0 ./ (1.0 + exp(-z));
end
